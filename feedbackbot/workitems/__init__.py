"""Work items for staff: who may see which, the inbox and item queries, and the actions officers take."""
