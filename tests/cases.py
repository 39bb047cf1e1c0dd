"""Hard names shared by CSV, storage and database tests."""

from __future__ import annotations

HARD_NAMES = [
    'Portal, "the" original',
    "Line one\nline two\r\nline three",
    "Back\\slash \\\\ and \\n literally",
    "Emoji 🎮🕹️👾 and ZWJ 👩‍💻",
    "Trademarks™ and Registered® and ©",
    "日本語のゲーム・ポータル",
    "한국어 게임",
    "Ελληνικά και Кириллица",
    "  leading and trailing spaces  ",
    '\'; DROP TABLE "ImportedGame"; --',
    "=cmd|' /C calc'!A0",
    "Tab\tseparated\tname",
    'fields *; where name = "x";',
    "",
]
