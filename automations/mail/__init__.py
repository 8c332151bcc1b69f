"""Mail: composing messages and the backends that deliver them.

The backends by their name in [mail] backend, and the module of each: it opens one
(`open_mailer(settings)`) and, when the provider has sending limits, tells them
(`mail_limits(settings)`). Adding a mail backend is adding its module and a line here.
"""

MAIL_BACKENDS = {
    "outbox": "automations.mail.outbox",
    "smtp": "automations.mail.smtp",
    "microsoft365": "automations.mail.microsoft365",
}
