"""Letter templates as staff edit them: text with [Champ] fields, never executed (guide §2.8, §2.8.1).

Shared by accounts (which stores and checks the establishment's templates) and the notifier (which fills them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

FIELDS = (
    "Civilité", "Nom", "Prénom", "Nom élève", "Prénom élève", "Division", "Adresse ligne 1", "Adresse ligne 2",
    "Adresse ligne 3", "Adresse ligne 4", "Code postal", "Commune", "Pays", "Établissement",
    "Adresse établissement", "Téléphone", "Courriel établissement", "Académie", "Date", "Adresse des services",
    "Identifiant", "Mot de passe", "Chef d'établissement", "Commune établissement",
)
"""Every field a template may hold, written [Champ] in the text."""
MAX_LENGTH = 6000
CNIL_MENTION = (
    "Protection des données : le chef d'établissement, responsable du traitement, utilise ces informations pour "
    "vous donner accès aux services en ligne de l'établissement (mission d'intérêt public, arrêté du 30 novembre "
    "2006 modifié). Un compte non activé est supprimé trois mois après sa notification ; les données d'un élève "
    "qui quitte l'établissement sont effacées dans les trois mois. Vous pouvez accéder à vos données, les faire "
    "rectifier ou vous opposer à leur traitement auprès de l'établissement, et adresser une réclamation à la "
    "commission nationale de l'informatique et des libertés (www.cnil.fr)."
)
"""Printed at the foot of every letter and email (RGPD art. 13: controller, purposes, retention, rights); it is
not part of what staff edit, so it cannot be removed."""
_FIELD = re.compile(r"\[([^\[\]\n]{1,40})\]")


class TemplatePart(StrEnum):
    """The editable parts: the shared header and one body per population and letter."""

    en_tete = "en_tete"
    responsable_nouveau_compte = "responsable_nouveau_compte"
    responsable_rappel_identifiant = "responsable_rappel_identifiant"
    eleve_nouveau_compte = "eleve_nouveau_compte"
    eleve_rappel_identifiant = "eleve_rappel_identifiant"


REQUIRED: dict[TemplatePart, tuple[str, ...]] = {
    TemplatePart.en_tete: ("Nom", "Adresse ligne 1", "Établissement"),
    TemplatePart.responsable_nouveau_compte: ("Adresse des services", "Identifiant", "Mot de passe", "Nom élève"),
    TemplatePart.eleve_nouveau_compte: ("Adresse des services", "Identifiant", "Mot de passe"),
    TemplatePart.responsable_rappel_identifiant: ("Adresse des services", "Identifiant"),
    TemplatePart.eleve_rappel_identifiant: ("Adresse des services", "Identifiant"),
}
"""What each part must keep: the recipient, his address and the establishment; the way in to the services."""

DEFAULTS: dict[TemplatePart, str] = {
    TemplatePart.en_tete: (
        "Académie de [Académie]\t[Commune établissement], le [Date]\n"
        "[Établissement]\n[Adresse établissement]\nTél : [Téléphone]\nCourriel : [Courriel établissement]\n\n"
        "[Civilité] [Nom] [Prénom]\n[Adresse ligne 1]\n[Adresse ligne 2]\n[Adresse ligne 3]\n[Adresse ligne 4]\n"
        "[Code postal] [Commune]\n[Pays]"
    ),
    TemplatePart.responsable_nouveau_compte: (
        "Objet : accès aux services en ligne de l'établissement\n\n"
        "Le [Établissement] met à votre disposition un ensemble de services pour vous permettre de vous informer, "
        "de suivre la scolarité de [Prénom élève] [Nom élève], élève de [Division], d'effectuer certaines "
        "démarches.\n\nPour y accéder, allez à l'adresse internet suivante :\n[Adresse des services]\n\n"
        "Identifiez-vous avec le compte \"Education nationale\" qui vous a été attribué :\n"
        "Identifiant : [Identifiant]\nMot de passe : [Mot de passe]\n\n"
        "Lors de votre première connexion, vous devrez :\n"
        "1. créer un nouveau mot de passe (à conserver pour les prochaines connexions) ;\n"
        "2. renseigner une adresse de messagerie électronique ;\n"
        "3. activer votre compte à partir du courriel envoyé dans votre messagerie.\n\n"
        "En cas de problème, contactez l'établissement.\n\n"
        "Pour information, les élèves ont également un compte personnel pour accéder aux services qui leur sont "
        "réservés.\n\nSalutations distinguées.\n\nLe chef d'établissement\n[Chef d'établissement]\n\n"
        "PS : vous disposez d'un délai de 3 mois pour activer votre compte. Au-delà, vous pourrez effectuer une "
        "nouvelle demande auprès de l'établissement."
    ),
    TemplatePart.responsable_rappel_identifiant: (
        "Objet : accès aux services en ligne de l'établissement\n\n"
        "Le [Établissement] vous rappelle l'adresse des services en ligne qui vous permettent de suivre la "
        "scolarité de [Prénom élève] [Nom élève], élève de [Division].\n\n"
        "Adresse : [Adresse des services]\nIdentifiant : [Identifiant]\n\n"
        "Votre compte est déjà activé : votre mot de passe reste celui que vous avez choisi. En cas d'oubli, "
        "utilisez le lien « Mot de passe oublié » de la page de connexion ou contactez l'établissement.\n\n"
        "Salutations distinguées.\n\nLe chef d'établissement\n[Chef d'établissement]"
    ),
    TemplatePart.eleve_nouveau_compte: (
        "Objet : accès aux services en ligne de l'établissement\n\n"
        "Le [Établissement] met à la disposition des élèves un ensemble de services.\n\n"
        "Pour y accéder, allez à l'adresse internet suivante :\n[Adresse des services]\n\n"
        "Identifiez-vous avec le compte \"Education nationale\" qui vous a été attribué :\n"
        "Identifiant : [Identifiant]\nMot de passe (provisoire) : [Mot de passe]\n\n"
        "Lors de votre première connexion, vous devrez créer un nouveau mot de passe (à conserver pour les "
        "prochaines connexions).\n\nLes règles de bon usage de ces services sont précisées dans la charte en "
        "vigueur dans l'établissement.\n\nAvec mes encouragements.\n\nLe chef d'établissement\n"
        "[Chef d'établissement]"
    ),
    TemplatePart.eleve_rappel_identifiant: (
        "Objet : accès aux services en ligne de l'établissement\n\n"
        "Le [Établissement] te rappelle l'adresse des services en ligne et ton identifiant.\n\n"
        "Adresse : [Adresse des services]\nIdentifiant : [Identifiant]\n\n"
        "Ton mot de passe reste celui que tu as choisi.\n\nAvec mes encouragements.\n\n"
        "Le chef d'établissement\n[Chef d'établissement]"
    ),
}


class TemplateRefused(ValueError):
    """A template staff typed cannot be kept; `field` names what is wrong."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def fields_in(text: str) -> list[str]:
    """The [Champ] fields a template uses, in order."""
    return _FIELD.findall(text)


def check_template(part: TemplatePart, text: str) -> str:
    """Refuse a template that is too long, names an unknown field, or lost one it must keep."""
    if len(text) > MAX_LENGTH:
        raise TemplateRefused(part.value, f"le modèle est limité à {MAX_LENGTH} caractères")
    for name in fields_in(text):
        if name not in FIELDS:
            raise TemplateRefused(part.value, f"le champ [{name}] n'existe pas")
    missing = [name for name in REQUIRED[part] if f"[{name}]" not in text]
    if missing:
        raise TemplateRefused(part.value, f"le champ [{missing[0]}] ne peut pas être retiré de ce courrier")
    return text


def fill(text: str, values: Mapping[str, str | None]) -> str:
    """Replace each [Champ] by its value (an unknown or empty one by nothing); lines left empty are dropped."""
    kept = []
    for original in text.split("\n"):  # line by line: a value may itself hold line breaks
        line = _FIELD.sub(lambda m: values.get(m.group(1)) or "", original)
        if line.strip() or not fields_in(original):
            kept.append(line.rstrip())
    return "\n".join(kept)
