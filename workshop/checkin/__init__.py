"""Check-in (presensi) at the door: the scanner page, its JSON endpoints, door staff."""
