"""v4 routes, served under /v4, with real status codes and one error shape."""
