"""The leads plugin's pages, JSON API and public web form."""
