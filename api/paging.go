package api

import (
	"fmt"
	"net/http"
	"strconv"
)

// Paging bounds of list endpoints.
const (
	defaultPageSize = 20
	maxPageSize     = 1000
)

// parsePaging reads the page (from 0) and size (1..1000) query parameters.
func parsePaging(r *http.Request) (page, size int, err error) {
	q := r.URL.Query()
	page, size = 0, defaultPageSize
	if q.Has("page") {
		s := q.Get("page")
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, 0, fmt.Errorf("page: %q is not a whole number from 0", s)
		}
		page = n
	}
	if q.Has("size") {
		s := q.Get("size")
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			return 0, 0, fmt.Errorf("size: %q is not a whole number from 1 to %d", s, maxPageSize)
		}
		size = n
	}
	return page, size, nil
}

// writeList answers a list endpoint: one page of all, in the list shape.
func writeList[T any](w http.ResponseWriter, r *http.Request, all []T) {
	page, size, err := parsePaging(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	total := len(all)
	resp := ListResponse[T]{
		Results: []T{},
		Paging: Paging{
			Page:         page,
			Size:         size,
			TotalPages:   (total + size - 1) / size,
			TotalResults: total,
		},
	}
	if page <= total/size { // so that page*size cannot overflow
		if start := page * size; start < total {
			resp.Results = all[start:min(start+size, total)]
		}
	}
	writeJSON(w, http.StatusOK, resp)
}
