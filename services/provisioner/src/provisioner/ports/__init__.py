"""What the provisioner needs from the outside world, as typing.Protocol interfaces."""
