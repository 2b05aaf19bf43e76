"""Access control: who is asking (sessions, API keys), what they may do (roles, scopes), and the record of it.

`AccessMiddleware` decides every request in one place; `register` adds the login flow,
TOTP enrolment and the audit log. See docs/access.md.
"""
