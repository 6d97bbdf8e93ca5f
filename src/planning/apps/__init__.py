"""Apps: the command line, the planners' notebook views and the councillors' dashboard."""
