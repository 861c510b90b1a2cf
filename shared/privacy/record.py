"""The record of processing activities (RGPD art. 30), generated in French from the settings in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from teleservices.shared.privacy.retention import RetentionFigures, current_retention

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)  # noqa: S701 — Markdown
_html = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
                    trim_blocks=True, lstrip_blocks=True)

TITLE = "Registre des activités de traitement — Téléservices"


@dataclass(frozen=True)
class Traitement:
    """One processing activity as art. 30 describes it."""

    nom: str
    service: str
    finalites: tuple[str, ...]
    base_legale: str
    personnes: tuple[str, ...]
    donnees: tuple[str, ...]
    destinataires: tuple[str, ...]
    durees: tuple[tuple[str, str], ...]
    mesures: tuple[str, ...]


def _jours(n: int) -> str:
    return f"{n} jour{'s' if n > 1 else ''}"


def _siecle_fields() -> str:
    from teleservices.sync.siecle.model import CHAMPS_CONSERVES

    return "; ".join(f"{parent} : {', '.join(sorted(fields))}" for parent, fields in CHAMPS_CONSERVES.items())


def traitements(r: RetentionFigures) -> list[Traitement]:
    """Every processing of the platform, with the retention periods in force."""
    depart = _jours(r.departure_purge_days)
    outbox = _jours(max(r.outbox_retention_days.values()))
    commun = ("Accès réservé au personnel habilité, limité à ses établissements (jeton signé, rôle, menus délégués)",
              "Chaque action du personnel est tracée dans un journal chaîné par empreintes SHA-256 : toute "
              "modification ou suppression est détectée",
              "Aucune donnée personnelle dans les journaux techniques (identifiants techniques seulement)",
              "Une base de données par service ; échanges entre services par messages typés")
    return [
        Traitement(
            nom="Gestion des comptes d'accès aux téléservices", service="accounts",
            finalites=("Créer et gérer les comptes des élèves et de leurs représentants légaux pour les "
                       "téléservices de l'établissement (Scolarité services)",
                       "Assister les familles (réinitialisation, notification, regroupement des comptes)"),
            base_legale="Mission d'intérêt public (RGPD art. 6-1-e) ; arrêté du 30 novembre 2006 modifié (ENT)",
            personnes=("Élèves", "Représentants légaux", "Personnel de l'établissement et de l'académie"),
            donnees=("Identité de l'élève : nom, prénom, date de naissance, INE, identifiant SIECLE",
                     "Scolarité : division, groupes, formation (MEF), régime",
                     "Représentants : civilité, nom, prénom, adresse postale, courriel, téléphones, lien avec l'élève",
                     "Compte : identifiant, état, mot de passe provisoire chiffré, dates de notification et de "
                     "connexion"),
            destinataires=("Chef d'établissement (responsable du traitement) et personnels qu'il habilite",
                           "Opérateurs académiques (assistance, exploitation)"),
            durees=(("Compte notifié mais jamais activé", f"supprimé {_jours(r.notified_expiry_days)} après "
                                                          "la dernière notification"),
                    ("Compte utilisé", f"supprimé après {_jours(r.unused_expiry_days)} sans connexion"),
                    ("Élève parti, personne sans élève", f"données supprimées {depart} après l'import qui "
                                                         "constate le départ"),
                    ("Journal des actions du personnel", "conservé chaîné ; durée de conservation à fixer par "
                                                         "le responsable (recommandation CNIL : 6 mois à 1 an)")),
            mesures=(*commun, "Mots de passe provisoires chiffrés (AES-GCM), lisibles seulement jusqu'à "
                              "l'activation")),
        Traitement(
            nom="Import des données SIECLE/BEE", service="sync",
            finalites=("Tenir les comptes à jour à partir des exports de la base élèves de l'établissement",),
            base_legale="Mission d'intérêt public (RGPD art. 6-1-e) ; arrêté du 30 novembre 2006 modifié, art. 2",
            personnes=("Élèves", "Représentants légaux et personnes en charge ou à contacter"),
            donnees=(f"Seuls ces champs SIECLE sont lus : {_siecle_fields()}",
                     "Jamais lus ni conservés en base : lieu de naissance (commune, département, pays), "
                     "nationalité (les fichiers reçus, qui les contiennent, sont supprimés après le délai "
                     "ci-dessous)"),
            destinataires=("Service des comptes de la plateforme", "Chef d'établissement (rapports d'import)"),
            durees=(("Dernier import appliqué (différence)", f"jusqu'au départ, puis {depart}"),
                    ("Fichiers d'export reçus par le dépôt nocturne",
                     f"supprimés {_jours(r.siecle_archive_days)} après leur import"),
                    ("Messages entre services", f"{outbox} après leur publication")),
            mesures=(*commun, "Fichiers XML lus sans DTD ni entités externes ; contrôles de cohérence et "
                              "soupape de sécurité sur les départs massifs")),
        Traitement(
            nom="Notification des comptes aux familles (courriels et courriers)", service="notifier",
            finalites=("Remettre aux familles leur identifiant et leur mot de passe provisoire",
                       "Envoyer les courriels d'activation et les messages de l'établissement"),
            base_legale="Mission d'intérêt public (RGPD art. 6-1-e)",
            personnes=("Élèves", "Représentants légaux"),
            donnees=("Nom, prénom, adresse postale, courriel", "Identifiant et mot de passe provisoire",
                     "Aucune date de naissance sur les courriers"),
            destinataires=("Les familles", "Le serveur de messagerie de l'académie (sous-traitant)"),
            durees=(("Courriers PDF par division", f"supprimés après {_jours(r.document_retention_days)}"),
                    ("Résultat de chaque envoi", f"jusqu'à la suppression du compte, au plus {depart} après "
                                                 "le départ")),
            mesures=(*commun, "Mot de passe transmis chiffré entre services", "Lien de première connexion "
                              "signé, à usage unique et limité dans le temps")),
        Traitement(
            nom="Portail Scolarité services : connexion des familles", service="portal-auth",
            finalites=("Permettre aux familles d'activer leur compte et de se connecter",
                       "Sécurité du service : traces de connexion"),
            base_legale="Mission d'intérêt public (RGPD art. 6-1-e) ; délibération CNIL 2021-122 (journalisation)",
            personnes=("Élèves", "Représentants légaux"),
            donnees=("Identifiant, empreinte du mot de passe (argon2id), courriel validé",
                     "Traces de connexion : date et résultat de chaque connexion"),
            destinataires=("Opérateurs académiques (sécurité)",),
            durees=(("Traces de connexion et statistiques d'accès",
                     f"purgées ou anonymisées après {_jours(r.connection_log_days)}"),
                    ("Sessions", f"supprimées avec le compte, au plus {depart} après le départ")),
            mesures=(*commun, "Mots de passe jamais conservés en clair (argon2id)")),
        Traitement(
            nom="Statistiques d'usage", service="stats",
            finalites=("Suivre l'ouverture et l'utilisation des comptes par établissement",),
            base_legale="Mission d'intérêt public (RGPD art. 6-1-e)",
            personnes=("Aucune personne identifiée : comptages anonymes",),
            donnees=("Nombres de comptes par état, par division et par jour",),
            destinataires=("Chef d'établissement", "Opérateurs académiques"),
            durees=(("Comptages anonymes", "sans limite (aucune donnée personnelle)"),),
            mesures=commun),
    ]


def record_markdown(figures: RetentionFigures | None = None, today: date | None = None) -> str:
    """The record as a Markdown document."""
    figures = figures or current_retention()
    return _templates.get_template("record.md.j2").render(
        title=TITLE, traitements=traitements(figures), today=(today or date.today()).strftime("%d/%m/%Y"))


def record_pdf(figures: RetentionFigures | None = None, today: date | None = None) -> bytes:
    """The record as a tagged PDF (PDF/UA, French, titled)."""
    import weasyprint  # heavy: imported where used

    figures = figures or current_retention()
    html = _html.get_template("record.html").render(
        title=TITLE, traitements=traitements(figures), today=(today or date.today()).strftime("%d/%m/%Y"))
    pdf: bytes = weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
    return pdf
