"""``kubectl bind dev``: a complete provider+consumer kube-bind setup on one machine.

``state`` is the on-disk record (PIDs, URLs, kubeconfigs) that ``up``, ``status`` and ``down``
share; ``supervisor`` starts and watches the processes; ``setup`` does the Kubernetes-side work
(examples, the non-interactive binding). No container runtime is needed: the control planes,
the backend and the konnector all run as local processes.
"""
