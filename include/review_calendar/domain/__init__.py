"""Pure rules and vocabulary of the programmes: no database, no files beyond the programme and holiday configuration."""

#: The one time zone of the project (Beijing time): every date and time is computed and shown in it.
#: A plain name here so that DAG files can use it at parse time without importing the calendar.
TIMEZONE = "Asia/Shanghai"
