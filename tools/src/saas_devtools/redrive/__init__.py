"""saas-redrive: the dead-letter queues and failure destinations of the templates, and moving
their messages back to where they are processed (README, "Dead letters and redrive")."""
