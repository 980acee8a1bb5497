"""The durable outbox: events written with the change, delivered to webhooks and FHIR
Subscriptions by a worker in each serve process."""
