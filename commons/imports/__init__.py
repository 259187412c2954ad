"""Imports from other wikis: YesWiki sites and MediaWiki XML dumps.

Each source is read and converted into pages with their revisions (authors, dates)
and media, then handed to the bundle importer as a bundle written for the occasion,
so an import obeys the same checks and is written the same way as any bundle: one
transaction, external authors with their origin, licences, the search announcement.

- ``yeswiki_markup``: YesWiki's markup to Markdown (also the Markdown escaping).
- ``plan``: pages, revisions and media to import, the report, the bundle they make and
  its import, redirects, the import record.
- ``sqldump``: the rows of a MySQL or MariaDB dump, read with sqlglot.
- ``yeswiki_source``: a YesWiki backup (zip, or SQL dump and files folder): its tables
  and attachments.
- ``yeswiki``: a YesWiki site read into a plan (pages, comments, Bazar, files, ACLs).
- ``mediawiki_markup``: wikitext to Markdown, with mwparserfromhell.
- ``mediawiki``: a MediaWiki XML dump read into a plan, with mwxml.

The command line (``commons import-yeswiki``, ``commons import-mediawiki``) reads a
plan, prints its report, then (unless ``--dry-run``) applies it and commits.
"""
