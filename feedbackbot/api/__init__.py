"""The journey API that the force's records system calls, with its OpenAPI description."""
