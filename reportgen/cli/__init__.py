"""The command line: a thin shell over the library's pure stages."""
