"""Ray Serve deployments: the HTTP ingress (``ingress``) and how they are assembled (``app``)."""
