"""``kubectl bind``: the kube-bind command line (login, bind, templates, deploy, unbind, dev).

Talks to the backend only over HTTP and to clusters only through the Kubernetes API; never imports
``app`` or ``konnector``.
"""

__version__ = "0.1.0"
