"""Téléservices: one import namespace; each subpackage is a symlink to its folder under services/ or shared/."""
