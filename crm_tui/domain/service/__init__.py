"""Service and relationship care (the seed's third step).

calendar     business time: PRC working days (holidays and make-up days) and hours
ticket_fields the ticket's fields in the registry (kernel.fields)
tickets      creation, routing, the state machine, SLA clocks with the pause, CSAT, FCR
queue        the ticket queue read model, keyset-paged in time-to-breach order
complaints   the closed loop: receive, grade, investigate, resolve, feedback, review
reviews      periodic reviews per tier as tasks; completing one records an interaction
care         birthdays, signing anniversaries, solar and lunar holidays into the outbox
outbox       queued e-mail / SMS with a state machine, dedupe and back-off retries
senders      SMTP for e-mail, a pluggable SMS sender (default: a spool directory)
service_jobs `run_due(crm, now)`: escalation, reviews, care, delivery (crm jobs run)
"""
