"""Administration: sign-in and lockout, staff, branches and teams, key rotation, backups and
first-time set-up."""
