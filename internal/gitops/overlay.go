package gitops

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/hash"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/githedgehog/hnp-sidecar/internal/panics"
)

// overlay collects the objects a batch creates in memory, on top of the
// clone's store, and writes them as one packfile: into the clone (ten
// thousand loose-object files cost seconds of file creation) and, the
// same bytes, to the remote on push. The pack is exactly what the remote
// lacks when it has the tip the batch was built on: the trees and blobs
// that differ from the tip's and the commit.
type overlay struct {
	storer.EncodedObjectStorer // the clone's store, for reads
	mem                        *memory.ObjectStorage
	added                      []plumbing.Hash
	// packDir is the clone's objects/pack directory; empty: write the
	// pack through the store's PackfileWriter.
	packDir string
}

func newOverlay(base storer.EncodedObjectStorer, packDir string) *overlay {
	return &overlay{EncodedObjectStorer: base, mem: &memory.NewStorage().ObjectStorage, packDir: packDir}
}

func (o *overlay) NewEncodedObject() plumbing.EncodedObject { return o.mem.NewEncodedObject() }

func (o *overlay) SetEncodedObject(obj plumbing.EncodedObject) (plumbing.Hash, error) {
	h := obj.Hash()
	if o.mem.HasEncodedObject(h) == nil {
		return h, nil // two files with the same content: one object
	}
	h, err := o.mem.SetEncodedObject(obj)
	if err == nil {
		o.added = append(o.added, h)
	}
	return h, err
}

func (o *overlay) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if obj, err := o.mem.EncodedObject(t, h); err == nil {
		return obj, nil
	}
	return o.EncodedObjectStorer.EncodedObject(t, h)
}

// flush writes the new objects into the clone as one packfile and returns
// it; nil when there are none.
func (o *overlay) flush() ([]byte, error) {
	if len(o.added) == 0 {
		return nil, nil
	}
	pack, idx, err := o.encode()
	if err != nil {
		return nil, err
	}
	if rs, ok := o.EncodedObjectStorer.(interface{ Reindex() }); ok && o.packDir != "" {
		if err := installPack(o.packDir, pack, idx); err != nil {
			return nil, err
		}
		rs.Reindex()
		return pack, nil
	}
	if pw, ok := o.EncodedObjectStorer.(storer.PackfileWriter); ok {
		w, err := pw.PackfileWriter()
		if err != nil {
			return nil, fmt.Errorf("gitops: write pack: %w", err)
		}
		if _, err := w.Write(pack); err != nil {
			return nil, errors.Join(fmt.Errorf("gitops: write pack: %w", err), w.Close())
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("gitops: write pack: %w", err)
		}
		return pack, nil
	}
	for _, h := range o.added {
		obj, err := o.mem.EncodedObject(plumbing.AnyObject, h)
		if err == nil {
			_, err = o.EncodedObjectStorer.SetEncodedObject(obj)
		}
		if err != nil {
			return nil, fmt.Errorf("gitops: store object: %w", err)
		}
	}
	return pack, nil
}

// encode writes the added objects as a version 2 packfile without deltas,
// compressed at zlib's best speed (the objects are small YAML files: the
// ratio barely moves, the time does), and its index. Each CPU compresses
// a contiguous run of the objects; the runs are then laid end to end.
func (o *overlay) encode() ([]byte, *idxfile.MemoryIndex, error) {
	n := len(o.added)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/512))
	runs := make([]packRun, workers)
	var wg sync.WaitGroup
	for k := range runs {
		wg.Go(func() {
			defer panics.Capture("gitops.encode", &runs[k].err)
			runs[k] = o.encodeRun(o.added[k*n/workers : (k+1)*n/workers])
		})
	}
	wg.Wait()
	size := 12 + hash.Size
	for _, r := range runs {
		if r.err != nil {
			return nil, nil, r.err
		}
		size += len(r.data)
	}
	pack := make([]byte, 12, size)
	copy(pack, "PACK")
	binary.BigEndian.PutUint32(pack[4:], 2)
	binary.BigEndian.PutUint32(pack[8:], uint32(n))
	iw := new(idxfile.Writer)
	if err := iw.OnHeader(uint32(n)); err != nil {
		return nil, nil, err
	}
	for k, r := range runs {
		base := uint64(len(pack))
		for i, h := range o.added[k*n/workers : (k+1)*n/workers] {
			iw.Add(h, base+r.offsets[i], r.crcs[i])
		}
		pack = append(pack, r.data...)
	}
	hs := hash.New(hash.CryptoType)
	hs.Write(pack)
	var sum plumbing.Hash
	copy(sum[:], hs.Sum(nil))
	pack = append(pack, sum[:]...)
	if err := iw.OnFooter(sum); err != nil {
		return nil, nil, err
	}
	idx, err := iw.Index()
	if err != nil {
		return nil, nil, fmt.Errorf("gitops: index pack: %w", err)
	}
	return pack, idx, nil
}

// packRun is a run of pack entries, with each one's offset in data and
// CRC-32.
type packRun struct {
	data    []byte
	offsets []uint64
	crcs    []uint32
	err     error
}

func (o *overlay) encodeRun(hashes []plumbing.Hash) packRun {
	r := packRun{offsets: make([]uint64, len(hashes)), crcs: make([]uint32, len(hashes))}
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	if err != nil {
		r.err = err
		return r
	}
	for i, h := range hashes {
		obj, err := o.mem.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			r.err = fmt.Errorf("gitops: write pack: %w", err)
			return r
		}
		start := buf.Len()
		buf.Write(entryHeader(obj.Type(), obj.Size()))
		rd, err := obj.Reader()
		if err != nil {
			r.err = fmt.Errorf("gitops: write pack: %w", err)
			return r
		}
		zw.Reset(&buf)
		_, err = io.Copy(zw, rd)
		if err == nil {
			err = zw.Close()
		}
		if err = errors.Join(err, rd.Close()); err != nil {
			r.err = fmt.Errorf("gitops: write pack: %w", err)
			return r
		}
		r.offsets[i], r.crcs[i] = uint64(start), crc32.ChecksumIEEE(buf.Bytes()[start:])
	}
	r.data = buf.Bytes()
	return r
}

// entryHeader is a pack entry's type and size: 3 bits of type and 4 of
// size in the first byte, 7 bits of size in each further one.
func entryHeader(t plumbing.ObjectType, size int64) []byte {
	b := []byte{byte(t)<<4 | byte(size&0x0f)}
	for size >>= 4; size > 0; size >>= 7 {
		b[len(b)-1] |= 0x80
		b = append(b, byte(size&0x7f))
	}
	return b
}

// installPack puts pack and its index into packDir as Git does: both
// written to temporary files, the pack renamed into place first, the
// index (which makes readers see the pack) last.
func installPack(packDir string, pack []byte, idx *idxfile.MemoryIndex) error {
	base := filepath.Join(packDir, "pack-"+plumbing.Hash(idx.PackfileChecksum).String())
	if _, err := os.Stat(base + ".idx"); err == nil {
		return nil // the same objects again (a retried batch)
	}
	if err := os.MkdirAll(packDir, 0o755); err != nil {
		return fmt.Errorf("gitops: write pack: %w", err)
	}
	var ib bytes.Buffer
	if _, err := idxfile.NewEncoder(&ib).Encode(idx); err != nil {
		return fmt.Errorf("gitops: write pack index: %w", err)
	}
	if err := writeFileAtomic(base+".pack", pack); err != nil {
		return err
	}
	return writeFileAtomic(base+".idx", ib.Bytes())
}

func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "tmp_pack_")
	if err != nil {
		return fmt.Errorf("gitops: write pack: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o444)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("gitops: write pack: %w", err)
	}
	return nil
}
