"""Settings of the sync service (environment prefix TELESERVICES_SYNC_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from teleservices.shared.settings import ServiceSettings


class SyncSettings(ServiceSettings):
    """Sync service settings."""

    model_config = SettingsConfigDict(env_prefix="TELESERVICES_SYNC_", extra="ignore")

    http_port: int = 8011
    drop_dir: Path | None = Field(default=None, description="Dépôt nocturne, un dossier par UAI (DATA_DIR/siecle)")
    max_removed_share: float = Field(default=0.10, ge=0, le=1,
                                     description="Part d'élèves partants au-delà de laquelle l'import s'arrête")
    max_upload_mb: int = 200
    archive_retention_days: int = Field(default=7, ge=1, le=92,
                                        description="Exports appliqués gardés dans <UAI>/traites/ (jours)")

    @property
    def drop_folder(self) -> Path:
        """Where the nightly exports are dropped, one folder per establishment (named by its UAI)."""
        return self.drop_dir or self.data_dir / "siecle"
