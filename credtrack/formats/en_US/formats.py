# The organisation's English date formats, used by every page (templates' |date and bare dates, and
# apps.web's sentences). Django's own "N j, Y" writes "Jan. 16, 2021"; HR's documents write "Jan 16, 2021".
# Other locales (e.g. LANGUAGE_CODE=en-gb: "16 Jan 2021") keep Django's formats.
DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, g:i A"
