"""The pure core: decisions as functions of data and `now`. No I/O, no clock reads."""
