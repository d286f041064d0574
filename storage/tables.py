"""Imports every table module so `SQLModel.metadata` is complete (migrations, tests)."""

from sqlmodel import SQLModel

import storage.agreements  # noqa: F401
import storage.challenges  # noqa: F401
import storage.conversation  # noqa: F401
import storage.digest  # noqa: F401
import storage.meeting_roles  # noqa: F401
import storage.meetings  # noqa: F401
import storage.models  # noqa: F401
import storage.networks  # noqa: F401
import storage.reflections  # noqa: F401
import storage.reports  # noqa: F401
import storage.resources  # noqa: F401
import storage.survey  # noqa: F401
import storage.voting  # noqa: F401

metadata = SQLModel.metadata
