package curtois

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ReadBestKnownFile reads the best-known values from a BEST_KNOWN.md file.
func ReadBestKnownFile(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	best, err := ParseBestKnown(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return best, nil
}

// ParseBestKnown extracts the best-known objective of each instance from
// a Markdown table whose header has an "instance" column and a column whose
// name starts with "best known UB" (as in BEST_KNOWN.md). Rows whose value
// is not an integer are skipped.
func ParseBestKnown(r io.Reader) (map[string]int, error) {
	best := map[string]int{}
	sc := bufio.NewScanner(r)
	nameCol, ubCol := -1, -1
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(text, "|") {
			nameCol, ubCol = -1, -1 // a table ends at the first non-table line
			continue
		}
		cells := strings.Split(strings.Trim(text, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if nameCol < 0 {
			for i, c := range cells {
				lc := strings.ToLower(c)
				switch {
				case lc == "instance":
					nameCol = i
				case strings.HasPrefix(lc, "best known ub"):
					ubCol = i
				}
			}
			if ubCol < 0 {
				nameCol = -1
			}
			continue
		}
		if nameCol >= len(cells) || ubCol >= len(cells) {
			continue
		}
		v, err := strconv.Atoi(cells[ubCol])
		if err != nil {
			continue // the separator row, or a value that is not a number
		}
		best[cells[nameCol]] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(best) == 0 {
		return nil, fmt.Errorf("no table with instance and best known UB columns")
	}
	return best, nil
}
