#include <stdio.h>
int main(void)
{
	puts("listkeeper");
	return 0;
}
