"""Guard: roles and scopes, secrets, enrolment and API tokens, and agent identity (clones, rotation)."""
