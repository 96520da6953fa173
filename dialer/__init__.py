"""The dialer: campaigns across the phone lines over AMI."""
