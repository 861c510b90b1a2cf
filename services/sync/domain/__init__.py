"""The pure rules of the import: what an export means for the platform, and what changed since the last one."""
