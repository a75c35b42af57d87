"""Reports: event dashboard, daftar hadir, exports, per-unit report, JP recaps, calendars."""
