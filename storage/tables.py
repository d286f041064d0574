"""Imports every table module so `SQLModel.metadata` is complete (migrations, tests)."""

from sqlmodel import SQLModel

import storage.models  # noqa: F401

metadata = SQLModel.metadata
