"""The dashboard's words: a small message catalogue, French by default, English selectable.

``translator(lang)`` gives ``t(key, **values)``; a key missing from a language
falls back to French, then to the key itself, so a forgotten entry shows as
its key rather than breaking the page (a test checks both languages have the
same keys). Rule titles of the default profile have French versions under
``rule.<id>``; other profiles' titles are shown as written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .map_words import MAP_WORDS
from .school_words import SCHOOL_WORDS

DEFAULT = "fr"
LANGUAGES = ("fr", "en")

CATALOGUE: dict[str, dict[str, str]] = {
    "fr": {
        "app.title": "Socle — état des écoles",
        "nav.overview": "Vue d'ensemble",
        "nav.speedtest": "Test de débit",
        "nav.signout": "Se déconnecter",
        "nav.language": "Langue",
        "login.title": "Connexion",
        "login.token": "Jeton d'accès",
        "login.help": "Collez le jeton que votre administrateur a créé "
                      "(socle-collector token create --role reader).",
        "login.submit": "Se connecter",
        "login.bad": "Jeton inconnu, expiré ou révoqué.",
        "login.plain_http": "Attention : cette page n'est pas servie en HTTPS ; le jeton circule en clair.",
        "level.not_ready": "Non prête",
        "level.base": "Socle atteint",
        "level.target": "Cible atteinte",
        "level.no_data": "Sans données",
        "level.silent": "Silencieuse",
        "level.silent.help": "les agents de l'école ne rapportent plus",
        "overview.title": "Vue d'ensemble",
        "overview.schools": "Écoles",
        "overview.count": "{n} école(s)",
        "overview.page": "Page {page} sur {pages}",
        "overview.prev": "Précédente",
        "overview.next": "Suivante",
        "overview.none": "Aucune école ne correspond.",
        "overview.scope": "Périmètre : {scope}",
        "filter.search": "Nom ou UAI",
        "filter.commune": "Commune",
        "filter.departement": "Département",
        "filter.level": "Niveau",
        "filter.rule": "Règle non respectée",
        "filter.any": "Toutes",
        "filter.apply": "Filtrer",
        "filter.reset": "Effacer",
        "col.uai": "UAI",
        "col.name": "École",
        "col.commune": "Commune",
        "col.departement": "Dépt",
        "col.level": "Niveau",
        "col.failing": "Règles non respectées",
        "export.csv": "Exporter en CSV",
        "export.json": "Exporter en JSON",
        "export.report": "Rapport imprimable",
        "school.pupils": "{n} élèves",
        "school.pupils_unknown": "effectif inconnu",
        "school.level": "Niveau",
        "school.evaluated": "Évalué le {at} (profil {profile})",
        "school.rules": "Règles",
        "school.rooms": "Salles",
        "school.devices": "Postes",
        "school.agents": "Agents",
        "school.charts": "Évolution (30 jours)",
        "school.no_rooms": "Aucune salle mesurée.",
        "school.no_devices": "Aucun poste mesuré.",
        "school.no_agents": "Aucun agent inscrit.",
        "school.speedtest_code": "Code pour un test de débit depuis un navigateur",
        "school.speedtest_make": "Créer un code (valable 2 h)",
        "school.speedtest_given": "Code à saisir sur la tablette, page « Test de débit » : {code}",
        "rule.outcome.pass": "Respectée",
        "rule.outcome.fail": "Non respectée",
        "rule.outcome.no_data": "Sans données",
        "rule.source": "source {source}",
        "rule.proposed": "seuil proposé, sans source officielle",
        "rule.gates": "niveau {level}",
        "rule.evidence": "Éléments",
        "rule.samples": "{n} mesure(s)",
        "rule.subject": "Sujet",
        "rule.value": "Valeur",
        "rule.threshold": "Seuil",
        "rule.period": "Période",
        "room.signal": "Signal Wi-Fi médian",
        "room.download": "Débit descendant médian",
        "room.coverage": "Couverture (W6)",
        "room.samples": "Mesures",
        "device.name": "Poste",
        "device.health": "État (E5, E7)",
        "device.ram": "Mémoire",
        "device.disk": "Disque",
        "device.disk_free": "Libre",
        "device.cpu": "Fils d'exécution",
        "device.os": "Système à jour",
        "device.battery": "Batterie",
        "agent.host": "Machine",
        "agent.room": "Salle",
        "agent.version": "Version",
        "agent.last_seen": "Dernier rapport",
        "agent.never": "jamais",
        "agent.spool": "Rapports en attente",
        "agent.dropped": "Rapports perdus",
        "agent.not_reported": "non transmis",
        "agent.clock": "Horloge",
        "agent.clock_ok": "à l'heure",
        "agent.clock_off": "décalée de {seconds} s (mesures replacées)",
        "agent.silent": "silencieux",
        "chart.download": "Débit descendant (Mbit/s, médiane par jour)",
        "chart.upload": "Débit montant (Mbit/s, médiane par jour)",
        "chart.latency": "Latence (ms, médiane par jour)",
        "chart.signal": "Signal Wi-Fi par salle (dBm, médiane par jour)",
        "chart.empty": "pas de mesure",
        "chart.threshold": "seuil",
        "yes": "oui",
        "no": "non",
        "report.title": "Rapport de raccordement et d'équipement",
        "report.print": "Imprimer",
        "report.generated": "Établi le {at} par Socle, profil {profile}.",
        "report.summary": "Synthèse",
        "report.failing": "Règles non respectées",
        "report.none_failing": "Aucune règle non respectée.",
        "speed.title": "Test de débit depuis le navigateur",
        "speed.intro": "Pour les tablettes et Chromebooks qui ne peuvent pas faire tourner l'agent. "
                       "Le technicien vous donne un code ; le résultat est rangé sous l'école et la salle.",
        "speed.code": "Code du technicien",
        "speed.room": "Salle",
        "speed.link": "Connexion de cet appareil",
        "speed.link.wifi": "Wi-Fi",
        "speed.link.wired": "Filaire",
        "speed.link.unknown": "Je ne sais pas",
        "speed.start": "Lancer le test",
        "speed.checking": "Vérification du code…",
        "speed.download": "Réception…",
        "speed.upload": "Envoi…",
        "speed.filing": "Enregistrement…",
        "speed.done": "Résultat enregistré pour {school}, salle {room}.",
        "speed.failed": "Échec : {reason}",
        "speed.code_unknown": "code inconnu",
        "speed.code_used": "ce code a déjà servi",
        "speed.code_expired": "ce code a expiré",
        "speed.too_many": "trop d'essais refusés : réessayez dans une minute",
        "speed.http": "le collecteur a refusé (HTTP {status})",
        "speed.down_label": "Descendant",
        "speed.up_label": "Montant",
        "speed.rtt_label": "Latence minimale",
        "forbidden": "Ce jeton ne donne pas accès à cette école.",
        **SCHOOL_WORDS["fr"],
        **MAP_WORDS["fr"],
    },
    "en": {
        "app.title": "Socle — school readiness",
        "nav.overview": "Overview",
        "nav.speedtest": "Speed test",
        "nav.signout": "Sign out",
        "nav.language": "Language",
        "login.title": "Sign in",
        "login.token": "Access token",
        "login.help": "Paste the token your administrator made (socle-collector token create --role reader).",
        "login.submit": "Sign in",
        "login.bad": "Unknown, expired or revoked token.",
        "login.plain_http": "Warning: this page is not served over HTTPS; the token travels in clear.",
        "level.not_ready": "Not ready",
        "level.base": "Base met",
        "level.target": "Target met",
        "level.no_data": "No data",
        "level.silent": "Silent",
        "level.silent.help": "the school's agents stopped reporting",
        "overview.title": "Overview",
        "overview.schools": "Schools",
        "overview.count": "{n} school(s)",
        "overview.page": "Page {page} of {pages}",
        "overview.prev": "Previous",
        "overview.next": "Next",
        "overview.none": "No school matches.",
        "overview.scope": "Scope: {scope}",
        "filter.search": "Name or UAI",
        "filter.commune": "Commune",
        "filter.departement": "Département",
        "filter.level": "Level",
        "filter.rule": "Failing rule",
        "filter.any": "Any",
        "filter.apply": "Filter",
        "filter.reset": "Clear",
        "col.uai": "UAI",
        "col.name": "School",
        "col.commune": "Commune",
        "col.departement": "Dept",
        "col.level": "Level",
        "col.failing": "Failing rules",
        "export.csv": "Export CSV",
        "export.json": "Export JSON",
        "export.report": "Printable report",
        "school.pupils": "{n} pupils",
        "school.pupils_unknown": "pupil count unknown",
        "school.level": "Level",
        "school.evaluated": "Evaluated {at} (profile {profile})",
        "school.rules": "Rules",
        "school.rooms": "Rooms",
        "school.devices": "Devices",
        "school.agents": "Agents",
        "school.charts": "Over time (30 days)",
        "school.no_rooms": "No room measured.",
        "school.no_devices": "No device measured.",
        "school.no_agents": "No agent enrolled.",
        "school.speedtest_code": "Code for a browser speed test",
        "school.speedtest_make": "Make a code (valid 2 h)",
        "school.speedtest_given": "Code to type on the tablet, 'Speed test' page: {code}",
        "rule.outcome.pass": "Met",
        "rule.outcome.fail": "Not met",
        "rule.outcome.no_data": "No data",
        "rule.source": "source {source}",
        "rule.proposed": "proposed threshold, no official source",
        "rule.gates": "gates {level}",
        "rule.evidence": "Evidence",
        "rule.samples": "{n} sample(s)",
        "rule.subject": "Subject",
        "rule.value": "Value",
        "rule.threshold": "Threshold",
        "rule.period": "Period",
        "room.signal": "Median Wi-Fi signal",
        "room.download": "Median download",
        "room.coverage": "Coverage (W6)",
        "room.samples": "Samples",
        "device.name": "Device",
        "device.health": "Health (E5, E7)",
        "device.ram": "RAM",
        "device.disk": "Disk",
        "device.disk_free": "Free",
        "device.cpu": "Threads",
        "device.os": "OS supported",
        "device.battery": "Battery",
        "agent.host": "Host",
        "agent.room": "Room",
        "agent.version": "Version",
        "agent.last_seen": "Last report",
        "agent.never": "never",
        "agent.spool": "Reports waiting",
        "agent.dropped": "Reports dropped",
        "agent.not_reported": "not reported",
        "agent.clock": "Clock",
        "agent.clock_ok": "on time",
        "agent.clock_off": "off by {seconds} s (measurements placed back)",
        "agent.silent": "silent",
        "chart.download": "Download (Mbit/s, daily median)",
        "chart.upload": "Upload (Mbit/s, daily median)",
        "chart.latency": "Latency (ms, daily median)",
        "chart.signal": "Wi-Fi signal per room (dBm, daily median)",
        "chart.empty": "no measurement",
        "chart.threshold": "threshold",
        "yes": "yes",
        "no": "no",
        "report.title": "Connectivity and equipment report",
        "report.print": "Print",
        "report.generated": "Made {at} by Socle, profile {profile}.",
        "report.summary": "Summary",
        "report.failing": "Rules not met",
        "report.none_failing": "No rule failed.",
        "speed.title": "Browser speed test",
        "speed.intro": "For tablets and Chromebooks that cannot run the agent. The technician gives you "
                       "a code; the result is filed under the school and room.",
        "speed.code": "Technician's code",
        "speed.room": "Room",
        "speed.link": "This device's connection",
        "speed.link.wifi": "Wi-Fi",
        "speed.link.wired": "Wired",
        "speed.link.unknown": "I don't know",
        "speed.start": "Start the test",
        "speed.checking": "Checking the code…",
        "speed.download": "Downloading…",
        "speed.upload": "Uploading…",
        "speed.filing": "Filing the result…",
        "speed.done": "Result filed for {school}, room {room}.",
        "speed.failed": "Failed: {reason}",
        "speed.code_unknown": "unknown code",
        "speed.code_used": "this code was already used",
        "speed.code_expired": "this code has expired",
        "speed.too_many": "too many refused attempts: try again in a minute",
        "speed.http": "the collector refused (HTTP {status})",
        "speed.down_label": "Download",
        "speed.up_label": "Upload",
        "speed.rtt_label": "Minimum latency",
        "forbidden": "This token does not give access to this school.",
        **SCHOOL_WORDS["en"],
        **MAP_WORDS["en"],
    },
}

# French titles of the default profile's rules (the profile file itself is in English).
RULE_TITLES_FR = {
    "A1-download-floor": "Débit descendant d'au moins 8 Mbit/s (en dessous, l'école est mal desservie)",
    "A2-download-base": "Débit descendant d'au moins 16 Mbit/s, ou 50 kbit/s par élève si plus",
    "A2-upload-base": "Débit montant d'au moins 2 Mbit/s",
    "A6-download-giga": "Débit descendant d'au moins 20 Mbit/s, ou 50 kbit/s par élève au-delà de 400",
    "A3-download-target": "Très haut débit : 30 Mbit/s, ou 100 kbit/s par élève et personnel si plus",
    "A12-latency": "Aller-retour médian vers le collecteur d'au plus 100 ms",
    "A12-jitter": "Gigue d'au plus 30 ms",
    "A12-loss": "Perte de paquets d'au plus 1 %",
    "E5-ram": "Au moins 8 Go de mémoire (PC minimum 2021)",
    "E5-cpu": "Un processeur de classe Core i3 / Ryzen 3 ou mieux (au moins 4 fils)",
    "E5-disk": "Un disque système d'au moins 250 Go",
    "E7-disk-free": "Au moins 10 % du disque système libre",
    "E5-ssd": "Le disque système est un SSD (PC minimum 2021)",
    "E7-os-supported": "Le système d'exploitation est encore maintenu par son éditeur",
    "F4-services-reachable": "ÉduConnect, les services du ministère et l'ENT répondent en TLS dans 90 % "
                             "des vérifications",
    "F4-services-time": "Le service le plus lent répond en 2 s au plus (médiane)",
    "F1-filtering": "Filtrage web en place : toute adresse à bloquer est bloquée",
    "W8-channel-utilisation": "Occupation du canal sous 50 % (médiane), quand le point d'accès l'annonce",
    "W11-channel-plan": "En 2,4 GHz, seulement les canaux 1, 6 ou 11",
    "W12-security": "Le Wi-Fi de la salle est protégé au moins en WPA2-AES (ni réseau ouvert, ni WEP, "
                    "ni TKIP seul)",
    "W6-signal": "90 % des mesures à −67 dBm ou mieux",
    "W7-snr": "90 % des mesures avec un rapport signal/bruit de 25 dB ou mieux",
}


SCOPE_NAMES = {
    "fr": {"all": "toutes les écoles", "commune": "commune {value}",
           "circonscription": "circonscription {value}",
           "departement": "département {value}", "academie": "académie de {value}"},
    "en": {"all": "every school", "commune": "commune {value}",
           "circonscription": "circonscription {value}",
           "departement": "département {value}", "academie": "académie de {value}"},
}


def scope_name(lang: str, scope: str) -> str:
    """A token's scope for the reader ("département 035", "toutes les écoles"); a damaged one as written."""
    names = SCOPE_NAMES.get(lang, SCOPE_NAMES[DEFAULT])
    kind, _, value = scope.partition(":")
    if kind == "all" and not value:
        return names["all"]
    if kind in names and kind != "all" and value:
        return names[kind].format(value=value)
    return scope


def pick_language(query: str | None, cookie: str | None) -> str:
    """The language asked for in the query, else the cookie's, else French."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **values)`` for one language."""
    table = CATALOGUE.get(lang, CATALOGUE[DEFAULT])

    def t(key: str, **values: Any) -> str:
        text = table.get(key) or CATALOGUE[DEFAULT].get(key) or key
        return text.format(**values) if values else text

    return t


def rule_title(lang: str, rule_id: str, title: str) -> str:
    """A rule's title in ``lang`` (French titles for the default profile's rules)."""
    if lang == "fr":
        return RULE_TITLES_FR.get(rule_id, title)
    return title
