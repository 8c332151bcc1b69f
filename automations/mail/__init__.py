"""Mail: composing MIME messages and the backends that deliver them."""
