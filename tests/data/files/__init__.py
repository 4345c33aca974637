"""Activity files for the file-import tests, written here by real encoders (fit-tool for FIT; GPX and TCX are
XML written by hand, as devices write them)."""
