"""What a briefing delivery is made of: the distribution list and the mail for one recipient.
Sending, retrying and recording are ideal.pipeline.delivery's.

The list is a YAML file (IDEAL_DISTRIBUTION, default $IDEAL_HOME/distribution.yaml):

    recipients:
      - {email: despacho@seguridad.gob.mx, country: MX, language: es}
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from ideal.config import get_settings
from ideal.errors import ConfigError, UnsafeInput
from ideal.safe_load import yaml_file

SUBJECTS = {"es": "Evaluación de amenazas", "pt": "Avaliação de ameaças", "en": "Threat assessment"}


def distribution(path: Path | None = None) -> list[dict]:
    path = path or get_settings().distribution_path
    if not path.exists():
        raise ConfigError(f"no distribution list at {path}; write one (see the README, "
                          "'Delivery') or set IDEAL_DISTRIBUTION.")
    try:
        data = yaml_file(path, f"distribution list {path.name}") or {}
    except UnsafeInput as exc:
        raise ConfigError(str(exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a distribution list is a mapping with the key 'recipients'.")
    out = []
    for i, r in enumerate(data.get("recipients") or [], 1):
        if not isinstance(r, dict) or "@" not in str(r.get("email", "")):
            raise ConfigError(f"{path}: recipient {i} needs an e-mail address.")
        out.append({"email": str(r["email"]), "language": str(r.get("language", "es")),
                    "country": r.get("country")})
    return out


def message(msg: EmailMessage, run_id: str, period: str, pdf: Path, language: str) -> EmailMessage:
    """Fill ``msg`` (addressed by the mailer) with the briefing's subject, text and PDF."""
    msg.replace_header("Subject", f"IDEAL · {SUBJECTS.get(language, SUBJECTS['en'])} {period} "
                                  f"({run_id})")
    msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name)
    return msg
