package volsync

import "fmt"

// Requests and answers share one connection, and the primary answers in
// the order asked. One goroutine sends the requests (sendRequests) and
// tells the reader, through expect, what answer comes next: the sub-block
// sums of a planned file that has candidate blocks, or the data of a file
// whose plan is complete. A file's data request goes out as soon as its
// sums were read and decided, so the first files stream in, are written
// and committed while later files are still being planned.

// expectation is an answer the reader is to read next.
type expectation struct {
	p    *filePlan
	sums bool // a SUMS answer (else the file's BLOCKS answer, if it asked for data)
}

// stream sends the requests for the plans coming on ready and reads the
// answers: sums are decided, files are written.
func (r *receiver) stream(ready <-chan *filePlan, ws *writers, cm *committer) error {
	expect := make(chan expectation, 2*len(r.files)+1)
	decided := make(chan *filePlan, len(r.files))
	quit := make(chan struct{})
	errc := make(chan error, 1)
	go func() { errc <- r.sendRequests(ready, decided, expect, quit) }()
	var err error
	for e := range expect {
		if e.sums {
			if err = r.readSums(e.p); err != nil {
				break
			}
			decided <- e.p
			continue
		}
		if err = ws.failed(); err == nil {
			err = r.writeFile(e.p, ws, cm)
		}
		if err != nil {
			break
		}
	}
	close(quit)
	if err == nil {
		err = <-errc
	}
	return err
}

// sendRequests asks for the sums of each new plan's candidate blocks,
// and for each file's data once its plan is decided (right away without
// candidates), queueing the matching expectations. It flushes whenever it
// or the reader is about to wait, so the primary never idles on a
// buffered request.
func (r *receiver) sendRequests(ready, decided <-chan *filePlan, expect chan<- expectation, quit <-chan struct{}) error {
	defer close(expect)
	pending, unflushed := 0, false // plans waiting for their sums; requests not flushed
	for ready != nil || pending > 0 {
		// Flush when this goroutine is about to wait, or the reader is.
		if unflushed && (len(ready) == 0 && len(decided) == 0 || len(expect) < 2) {
			if err := r.c.flush(); err != nil {
				return fmt.Errorf("send requests: %w", err)
			}
			unflushed = false
		}
		var p *filePlan
		fresh := false
		select {
		case q, ok := <-ready:
			if !ok {
				ready = nil
				continue
			}
			p, fresh = q, true
		case p = <-decided:
			pending--
		case <-quit:
			return nil
		}
		if fresh && len(p.cands) > 0 {
			req := fileRequest{volume: r.volume, path: p.en.Path, size: p.en.Size, mtime: p.en.ModTime, blocks: toU32(p.cands)}
			if err := r.c.send(msgSums, encodeSumsRequest(&req)); err != nil {
				return fmt.Errorf("request sums of %s: %w", p.en.Path, err)
			}
			expect <- expectation{p, true}
			pending++
			unflushed = true
			continue
		}
		p.layout()
		if len(p.spans) > 0 && !p.stale {
			req := fileRequest{volume: r.volume, path: p.en.Path, size: p.en.Size, mtime: p.en.ModTime, ranges: mergeSpans(p.spans)}
			if err := r.c.send(msgBlocks, encodeBlocksRequest(&req)); err != nil {
				return fmt.Errorf("request blocks of %s: %w", p.en.Path, err)
			}
			unflushed = true
		}
		expect <- expectation{p, false}
	}
	return r.c.flush()
}
