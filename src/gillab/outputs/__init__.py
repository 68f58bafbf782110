"""What a run leaves behind: the terminal table, pictures, a Chrome trace and an HTML report."""
