"""Settings from the environment and `.env`; a bad one stops start-up with one clear line."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.sealed import KeyInvalid, Sealer, decode_key, key_from_file
from bot.zones import ZoneRefused, canonical_zone


class Settings(BaseSettings):
    """Every setting is documented in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///./circlebot.db"
    log_level: str = "INFO"
    log_format: str = "text"  # text | json (one object per line)
    # /healthz and /metrics (`bot.ops`): off unless a port is given (0: any free port).
    ops_http_host: str = "127.0.0.1"
    ops_http_port: int | None = Field(default=None, ge=0, le=65535)
    default_timezone: str = "UTC"

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_http_host: str = "0.0.0.0"
    slack_http_port: int = Field(default=3000, ge=1, le=65535)
    slack_http_path: str = "/slack/events"
    slack_messages_per_minute: int = Field(default=600, ge=1, le=6000)

    discord_token: SecretStr | None = None
    discord_dev_guild_id: int | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    # The privileged Server Members intent, for turnout against who can see the channel.
    discord_members_intent: bool = False
    # Sharding across instances: the total number of shards and the ones this instance runs
    # ("0,1"); none given: one connection, all guilds (a count without ids: every shard).
    discord_shard_count: int | None = Field(default=None, ge=1, le=4096)
    discord_shard_ids: Annotated[tuple[int, ...], NoDecode] = ()

    # The key reflection text is encrypted with (32 bytes, base64url); without it, the
    # key file below is used, created once when missing.
    reflection_key: SecretStr | None = None
    reflection_key_file: str = "./circlebot.key"

    @field_validator("reflection_key")
    @classmethod
    def _reflection_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        decode_key(value.get_secret_value())  # KeyInvalid is a ValueError: one line, no value
        return value

    def sealer(self, announce: Callable[[str], None] | None = None) -> Sealer:
        """The reflection sealer: REFLECTION_KEY, else the key file (created once, and then
        `announce` is told where, so the person starting circlebot knows to back it up)."""
        if self.reflection_key is not None:
            return Sealer(decode_key(self.reflection_key.get_secret_value()))
        path = Path(self.reflection_key_file)
        try:
            key, created = key_from_file(path)
        except KeyInvalid as err:
            raise SettingsError(f"setting REFLECTION_KEY_FILE is invalid: {err}") from None
        except OSError as err:
            raise SettingsError(
                f"setting REFLECTION_KEY_FILE is invalid: cannot create it ({err.strerror})"
            ) from None
        if created and announce is not None:
            announce(
                f"circlebot: created the reflection key {path.resolve()}; back it up: without "
                "it, stored reflections cannot be read (or set REFLECTION_KEY instead)"
            )
        return Sealer(key)

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("must be a database URL such as sqlite:///./circlebot.db") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("discord_shard_count", mode="before")
    @classmethod
    def _shard_count(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(" ", ",").split(",") if p.strip()]
            if not all(p.isdigit() for p in parts):
                raise ValueError("must be shard numbers separated by commas, such as 0,1")
            return tuple(int(p) for p in parts)
        return value

    @model_validator(mode="after")
    def _shards(self) -> Settings:
        ids, count = self.discord_shard_ids, self.discord_shard_count
        if ids and count is None:
            raise ValueError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total of shards)")
        if count is not None and any(i >= count for i in ids):
            raise ValueError("DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT (from 0)")
        if len(set(ids)) != len(ids):
            raise ValueError("DISCORD_SHARD_IDS names a shard twice")
        return self

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("ops_http_port", mode="before")
    @classmethod
    def _ops_port(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value.lower() not in ("text", "json"):
            raise ValueError("must be text or json")
        return value.lower()

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            return canonical_zone(value)
        except ZoneRefused as refused:
            # No value echoed, as for every setting; the suggestion says what was probably meant.
            message = "must be an IANA time zone such as America/New_York, not an offset"
            hint = refused.values.get("suggestion")
            raise ValueError(f"{message}; did you mean {hint}?" if hint else message) from None

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if (
            value is not None
            and value.get_secret_value()
            and not (value.get_secret_value().startswith("xoxb-"))
        ):
            raise ValueError("must be a bot token starting with xoxb-")
        return value or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if (
            value is not None
            and value.get_secret_value()
            and not (value.get_secret_value().startswith("xapp-"))
        ):
            raise ValueError("must be an app-level token starting with xapp-")
        return value or None

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, value: str) -> str:
        # AsyncWebClient joins method names onto base_url, so it must end with "/".
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_http_path")
    @classmethod
    def _slack_http_path(cls, value: str) -> str:
        if not value.startswith("/") or " " in value:
            raise ValueError("must be a URL path starting with / such as /slack/events")
        return value

    @property
    def slack_enabled(self) -> bool:
        """Any Slack credential counts, so a half configuration is refused, not ignored."""
        return any(
            (
                self.slack_bot_token,
                self.slack_app_token,
                self.slack_signing_secret,
                self.slack_client_id,
                self.slack_client_secret,
            )
        )

    def slack_gap(self) -> str | None:
        """What a half Slack configuration lacks, in one phrase; None when nothing obvious."""
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            given, missing = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
            if self.slack_client_secret:
                given, missing = missing, given
            return f"{given} is set without {missing} (installs need both)"
        if self.slack_app_token and not self.slack_bot_token:
            return "SLACK_APP_TOKEN is set without SLACK_BOT_TOKEN (Socket Mode needs both)"
        if self.slack_signing_secret and not (self.slack_bot_token or self.slack_client_id):
            return (
                "SLACK_SIGNING_SECRET is set without SLACK_BOT_TOKEN "
                "(or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for installs)"
            )
        return None

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_token and self.discord_token.get_secret_value())


class SettingsError(Exception):
    """One line naming the setting that is wrong, without its value."""


class StartupError(Exception):
    """One line saying what could not be reached or opened at start (a database, an API)."""


def unreachable_reason(err: BaseException) -> str:
    """A few words for why a connection failed (aiohttp keeps the OS error aside)."""
    os_error = getattr(err, "os_error", None)
    if isinstance(os_error, OSError) and os_error.strerror:
        return os_error.strerror
    if isinstance(err, TimeoutError):
        return "timed out"
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def check_env_file(path: str | os.PathLike[str]) -> None:
    """A `.env` that exists but cannot be read is an error, not silently no settings."""
    env = Path(path)
    if not os.path.lexists(env):
        return
    if env.is_symlink() and not env.exists():
        raise SettingsError(f"{env} is a link to a file that does not exist")
    if env.is_dir():
        raise SettingsError(f"{env} is a folder; settings go in a file of NAME=value lines")
    try:
        env.read_bytes().decode("utf-8")
    except OSError as err:
        raise SettingsError(f"cannot read {env}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{env} is not UTF-8 text") from None


def load_settings(**overrides: Any) -> Settings:
    """Read settings; raise `SettingsError` with one line per problem (values never echoed)."""
    env_file = overrides.get("_env_file", Settings.model_config.get("env_file"))
    if isinstance(env_file, (str, os.PathLike)):
        check_env_file(env_file)
    try:
        return Settings(**overrides)
    except ValidationError as err:
        first = err.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # settings checked together name themselves (`_shards`)
            raise SettingsError(f"settings are invalid: {message}") from None
        raise SettingsError(f"setting {name} is invalid: {message}") from None
