"""TLS for downloads: which certificates are trusted, and what to say when that fails.

Certificates are always verified; idxmnist never falls back from ``https``
to ``http`` (nor follows a redirect that would), and never suggests turning
verification off. The trust store is, in order:

1. ``$SSL_CERT_FILE`` / ``$SSL_CERT_DIR`` when either is set (OpenSSL reads
   them; honoured on every platform because Python's default context is used);
2. the operating system's store, when the optional ``truststore`` package is
   installed (``pip install 'idxmnist[truststore]'``): what a browser on the
   same machine trusts, including a company's own CA;
3. else Python's default (OpenSSL's CA bundle).

``ssl`` and ``truststore`` are imported only when a download starts.
"""

from __future__ import annotations

import ssl

from ..config import tls_variables

__all__ = ["context", "store_name", "certificate_failure"]


def _truststore_context() -> ssl.SSLContext | None:
    try:
        import truststore
    except ImportError:
        return None
    ctx: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return ctx


def context() -> ssl.SSLContext:
    """The verifying context for ``https`` downloads (see the module docstring)."""
    if not tls_variables():
        ctx = _truststore_context()
        if ctx is not None:
            return ctx
    return ssl.create_default_context()


def store_name() -> str:
    """Which certificates :func:`context` trusts, in words."""
    given = tls_variables()
    if given:
        var, value = next(iter(given.items()))  # OpenSSL reads SSL_CERT_FILE first
        return f"the certificates in ${var} ({value})"
    if _truststore_context() is not None:
        return "the operating system's trust store (truststore)"
    return "Python's default CA bundle (OpenSSL)"


def certificate_failure(host: str, detail: str) -> str:
    """The message for a certificate that did not verify: the host, the cause, the fixes."""
    if tls_variables():
        fixes = "set SSL_CERT_FILE to a PEM bundle that includes your network's CA certificate"
    elif _truststore_context() is not None:  # the system's store was used, and lacks the CA
        fixes = (
            "add the CA that signs it (a company proxy's CA, say) to the operating system's "
            "trust store, or set SSL_CERT_FILE to a PEM bundle holding it"
        )
    else:
        fixes = (
            "set SSL_CERT_FILE to a PEM bundle holding the CA that signs it (a company "
            "proxy's CA, say), or pip install 'idxmnist[truststore]' to trust the operating "
            "system's store"
        )
    return (
        f"TLS certificate verification failed for {host} ({detail}); trusted: "
        f"{store_name()}. To fix: {fixes}. (The files are checked against pinned "
        "hashes as well; another mirror, or idxmnist import, also works)"
    )
