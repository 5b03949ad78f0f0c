"""Deployment targets: where a model version is served, behind one small interface.

- ``base``: the ``Target`` protocol every target implements, and the values passed between its
  calls (``Release``: what to serve; ``Live``: what is served now).
- ``endpoint``: HTTP polling of a handoff endpoint (which version answers, ready yet), shared by
  every target.
- ``local``: a ``python -m jobs.serving`` process on this machine.
- ``docker``: blue/green serving containers behind ``router`` (a TCP forwarder that runs in its
  own container as ``python -m jobs.deployment.targets.router``).
- ``kubernetes``: the serving Deployment, rolled by a patch; its decisions, as plain functions of
  the Deployment object, are in ``kubernetes_rollout``.

The parts import only ``base`` and ``endpoint``; the one place that knows them all is
``jobs.deployment.factory``, above them. Deploying, smoke-testing and rolling back are written
once, in ``jobs.deployment.rollout``, on top of the protocol.
"""
