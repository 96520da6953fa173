"""The booth workers' hotline: who is calling (FastAGI), and the instructions their booth gets."""
