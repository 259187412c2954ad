"""Imports from other wikis: YesWiki sites and MediaWiki XML dumps.

Each source is read and converted into pages with their revisions (authors, dates)
and media, then handed to the bundle importer as a bundle written for the occasion,
so an import obeys the same checks and is written the same way as any bundle: one
transaction, external authors with their origin, licences, the search announcement.

- ``sqldump``: the rows of a MySQL or MariaDB dump, read with sqlglot.
- ``yeswiki_markup``: YesWiki's markup to Markdown.
- ``plan``: pages, revisions and media to import, the report, and the bundle they make.
- ``yeswiki``: a YesWiki backup (zip or SQL dump and files folder) read into a plan.
"""
