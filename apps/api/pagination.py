from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    # "last" would need every result counted before choosing which to keep (see window()).
    last_page_strings = ()

    def window(self, request) -> slice:
        """The positions the requested page covers, for results computed on the fly.

        A page number the paginator will refuse (not a number, below 1) gets any window: the
        paginator answers 404 for it anyway, as for a page past the end.
        """
        size = self.get_page_size(request)
        assert size is not None  # PAGE_SIZE is set in settings
        try:
            number = max(int(request.query_params.get(self.page_query_param, 1)), 1)
        except ValueError:
            number = 1
        return slice((number - 1) * size, number * size)
