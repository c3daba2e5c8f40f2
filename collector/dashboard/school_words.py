"""The dashboard's words for what the collector knows of a school: its directory record, its class count
and where it came from; a refused scope. Merged into collector/dashboard/i18n.py's catalogue."""

from __future__ import annotations

SCHOOL_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "school.classes": "{n} classes",
        "school.classes_unknown": "nombre de classes inconnu",
        "school.classes_import": "d'après {file}, rentrée {year}",
        "school.classes_import_noyear": "d'après {file}",
        "school.classes_admin": "saisi par un administrateur le {at}",
        "fact.commune_code": "Code commune (INSEE)",
        "fact.circonscription": "Circonscription",
        "fact.sector": "Secteur",
        "fact.priority": "Éducation prioritaire",
        "fact.state": "État",
        "fact.email": "Courriel",
        "fact.position": "Position",
        "sector.public": "Public",
        "sector.private": "Privé",
        "priority.none": "Non",
        "state.open": "Ouverte",
        "state.closing": "À fermer",
        "state.opening": "À ouvrir",
        "state.closed": "Fermée",
        "overview.scope_refused": "Ce jeton ne donne accès à aucune école : {problem}. Demandez-en un "
                                  "nouveau à un administrateur.",
    },
    "en": {
        "school.classes": "{n} classes",
        "school.classes_unknown": "class count unknown",
        "school.classes_import": "from {file}, school year {year}",
        "school.classes_import_noyear": "from {file}",
        "school.classes_admin": "set by an admin on {at}",
        "fact.commune_code": "Commune code (INSEE)",
        "fact.circonscription": "Circonscription",
        "fact.sector": "Sector",
        "fact.priority": "Priority education",
        "fact.state": "State",
        "fact.email": "E-mail",
        "fact.position": "Position",
        "sector.public": "Public",
        "sector.private": "Private",
        "priority.none": "No",
        "state.open": "Open",
        "state.closing": "Closing",
        "state.opening": "Opening",
        "state.closed": "Closed",
        "overview.scope_refused": "This token gives access to no school: {problem}. Ask an admin for a "
                                  "new one.",
    },
}
