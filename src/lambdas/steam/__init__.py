"""Stage 1, steam_import: a Steam account in any pasted form → owned games → the raw CSV.

Owns: resolving the account, fetching the library, the raw rows. Imports clients and models only.
"""
