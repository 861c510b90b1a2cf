"""Who may do what: establishments in scope and menus delegated by the head."""

from __future__ import annotations

from teleservices.accounts.domain.model import NotAllowed
from teleservices.shared.messages.catalog import Population
from teleservices.shared.security.staff import Menu, StaffPrincipal


def require_menu(staff: StaffPrincipal, menu: Menu | None) -> None:
    """Refuse (403) a menu the head did not delegate to this staff member."""
    if menu is not None and not staff.may_use(menu):
        raise NotAllowed("menu", f"le chef d'établissement n'a pas délégué le menu « {menu.label} »")


def accounts_menu(population: Population | str) -> Menu:
    """The menu that manages a population's accounts."""
    return Menu.acces_eleves if Population(population) is Population.eleve else Menu.acces_responsables
