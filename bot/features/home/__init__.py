"""The member's home view, drawn from every feature's ``home.sections``."""

from bot.feature import Feature
from bot.features.home.commands import commands
from bot.features.home.render import home

FEATURE = Feature(name="home", commands=commands(), home=home, catalog="home")
