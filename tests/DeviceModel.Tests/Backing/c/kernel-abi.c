/* Prints the kernel ABI values backing resolution uses, from the system's own headers, as
 * "NAME VALUE" lines; KernelAbiTests compares them with the C# definitions. */
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdio.h>

#define P(name, value) printf("%s %llu\n", name, (unsigned long long)(value))

int main(void)
{
	P("FS_IOC_FIEMAP", FS_IOC_FIEMAP);
	P("FS_IOC_GETFLAGS", FS_IOC_GETFLAGS);
	P("FS_IOC_SETFLAGS", FS_IOC_SETFLAGS);
	P("FS_IOC_FSGETXATTR", FS_IOC_FSGETXATTR);
	P("sizeof(struct fiemap)", sizeof(struct fiemap));
	P("sizeof(struct fiemap_extent)", sizeof(struct fiemap_extent));
	P("offsetof(struct fiemap_extent, fe_flags)", offsetof(struct fiemap_extent, fe_flags));
	P("offsetof(struct fiemap, fm_mapped_extents)", offsetof(struct fiemap, fm_mapped_extents));
	P("sizeof(struct fsxattr)", sizeof(struct fsxattr));
	P("FIEMAP_FLAG_SYNC", FIEMAP_FLAG_SYNC);
	P("FIEMAP_FLAG_XATTR", FIEMAP_FLAG_XATTR);
	P("FIEMAP_EXTENT_LAST", FIEMAP_EXTENT_LAST);
	P("FIEMAP_EXTENT_UNKNOWN", FIEMAP_EXTENT_UNKNOWN);
	P("FIEMAP_EXTENT_DELALLOC", FIEMAP_EXTENT_DELALLOC);
	P("FIEMAP_EXTENT_ENCODED", FIEMAP_EXTENT_ENCODED);
	P("FIEMAP_EXTENT_DATA_ENCRYPTED", FIEMAP_EXTENT_DATA_ENCRYPTED);
	P("FIEMAP_EXTENT_NOT_ALIGNED", FIEMAP_EXTENT_NOT_ALIGNED);
	P("FIEMAP_EXTENT_DATA_INLINE", FIEMAP_EXTENT_DATA_INLINE);
	P("FIEMAP_EXTENT_DATA_TAIL", FIEMAP_EXTENT_DATA_TAIL);
	P("FIEMAP_EXTENT_UNWRITTEN", FIEMAP_EXTENT_UNWRITTEN);
	P("FIEMAP_EXTENT_MERGED", FIEMAP_EXTENT_MERGED);
	P("FIEMAP_EXTENT_SHARED", FIEMAP_EXTENT_SHARED);
	P("FS_IMMUTABLE_FL", FS_IMMUTABLE_FL);
	P("FS_XFLAG_REALTIME", FS_XFLAG_REALTIME);
	return 0;
}
