"""The signed-in patient's own views: profile with clinic texts, progress charts."""
