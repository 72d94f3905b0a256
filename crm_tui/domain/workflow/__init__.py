"""Work that reaches a person, shared by every area: the notification centre, tasks (the
RM's "My day"), and the registry of periodic jobs that `crm jobs run` and the app run."""
